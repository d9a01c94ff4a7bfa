"""The crawl of agency websites: config, polite fetching, listing pages, attachments.

flows/crawl_sites.py orchestrates it; store/crawl.py keeps its provenance.
"""
