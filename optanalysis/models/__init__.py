"""Models the rules run on: quadratics (spectra, Hessians, noise) and online losses."""
