"""`make aws-acceptance`: prove the stack on a real (sandbox) AWS account end to end, then remove it.

``dogbreed-acceptance --region R --spend`` applies the stack under a unique name, uploads a small generated
dataset and staged weights, runs a one-trial tuning job and a two-instance distributed training job on the
cheapest suitable instance types, publishes the model, applies the serving part, calls the Function URL
signed with SigV4 in each request form, checks autoscaling, alarms and the budget, and destroys everything,
also when a step fails or the run is interrupted. Without ``--spend`` it prints the estimated cost and stops
before creating anything. Each run writes report.json and report.md (steps, durations, results, cost).
"""
