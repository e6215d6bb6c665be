"""The bill: what the stack costs while idle and per 1,000 predictions, from the repository's price tables.

``dogbreed-bill`` reads the stack's settings through Terraform (the root variables of a tfvars file, or a
plan), prices them with docs/instance_prices.csv and docs/service_prices.csv, and prints a table.
"""
