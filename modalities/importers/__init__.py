"""`insitu data add` importers for folders of images and recordings (one file per importer)."""
