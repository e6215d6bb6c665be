"""Datasets: the dogImages layout, a synthetic generator and the downloader."""
