"""The virtual microscope: phantoms, propagation, partially coherent imaging and the camera."""
