"""Data ingestion: importers turn files into a task's examples (text here; media in modalities)."""
