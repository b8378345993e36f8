/*
 * C/S Sec. spyware pattern file, version 1.
 *
 * Detects the harmless C/S Sec. spyware test marker, in ASCII or UTF-16LE, anywhere in
 * a file. The marker's first letter is written as \x43 so that this rule file does not
 * contain the marker and never detects itself.
 */

rule Spyware_Test_File
{
    meta:
        threat = "Spyware_test_file"
        description = "C/S Sec. spyware test marker (harmless)"

    strings:
        $marker = "\x43SSEC-SPYWARE-TEST-SIGNATURE" ascii wide

    condition:
        $marker
}
