"""Page images to tables and text: rasterise, normalise, find grids and regions, OCR."""
