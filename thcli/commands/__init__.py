"""One module per command group: parse, call one domain function, render."""
