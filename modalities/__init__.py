"""insitu modalities: encoders of text, images and audio into the unified sample type."""
