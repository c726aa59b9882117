"""Files and store exports: readers, encodings, export vocabularies."""
