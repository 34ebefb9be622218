"""Learning to collaborate: trained routers from recorded outcomes, calibration, the `learned` policy."""
