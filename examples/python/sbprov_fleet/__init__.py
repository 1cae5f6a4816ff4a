"""sbprov-fleet: provision a fleet of smart-building gateways (Mender
preauthorization, Azure DPS device keys, per-device credential bundles) from
a CSV manifest, with the sbprov binding of libsbprov.

Run ``sbprov-fleet --help``, or see README.md next to this package."""

__version__ = "0.1.0"
