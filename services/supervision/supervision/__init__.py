"""Supervision service: e-supervision (电子监察) of case deadlines, reviews (好差评) and metrics."""
