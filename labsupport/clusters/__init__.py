"""Clusters of real engines on loopback, with every node-to-node link through one faultable network."""
