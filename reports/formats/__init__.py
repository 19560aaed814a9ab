"""Reports in and out: the text layout, JSON, Markdown and the archive; import and export."""
