from thcli.cli import app

app(prog_name="thcli")
