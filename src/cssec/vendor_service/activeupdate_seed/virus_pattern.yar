/*
 * C/S Sec. virus pattern file, version 1.
 *
 * Detects the EICAR anti-virus test file the way anti-virus products do: the file
 * starts with the 68-byte EICAR string and may be followed only by whitespace
 * (space, tab, CR, LF, Ctrl-Z), 128 bytes at most in all. The string is written with
 * its backslash escaped, so this rule file never contains the test string itself and
 * is not mistaken for the test file by anyone's scanner.
 */

rule EICAR_Test_File
{
    meta:
        threat = "Eicar_test_file"
        description = "EICAR anti-virus test file (harmless)"
        reference = "https://www.eicar.org/download-anti-malware-testfile/"

    strings:
        $eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

    condition:
        $eicar at 0 and filesize <= 128 and
        for all i in (68 .. filesize) : (
            i == filesize or
            uint8(i) == 0x20 or uint8(i) == 0x09 or uint8(i) == 0x0A or
            uint8(i) == 0x0D or uint8(i) == 0x1A
        )
}
