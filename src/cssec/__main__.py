from cssec.cli import app

app(prog_name="cssec")
