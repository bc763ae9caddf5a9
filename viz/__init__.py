"""Figures: pure functions from engine data (traces, histories, datasets) to plotly figures."""
