"""insitu teachers: local and API models that synthesise pairs and judge replies."""
