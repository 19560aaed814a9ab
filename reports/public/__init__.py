"""What readers see: report pages, lists and search, feeds, sitemaps, structured data, feedback."""
