"""The default letter templates (.docx files, package data) and build_templates.py, which makes them."""
