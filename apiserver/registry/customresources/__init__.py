"""Custom resources: kinds a CustomResourceDefinition adds at run time.

definitions.py  what a CRD serves (catalogue Resources, schema definitions)
schema.py       its structural schema: validation, defaulting, pruning
strategy.py     the Strategy of a custom resource (tables, /scale, conversion)
conversion.py   Webhook conversion: ConversionReviews to the CRD's HTTPS webhook
controller.py   the in-server loop that serves CRDs and cleans up after them
"""
