"""Client mode: the suite plays the IdP and the person, and judges a client by its profile."""
