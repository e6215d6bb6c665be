# The notebook's and the EC2 trainer's security groups, with their egress rules, moved from their own modules into
# the network module (one group per workload). Without these blocks an existing deployment would destroy and
# re-create every group and rule, and with its group the notebook instance (the provider's security_groups of
# aws_sagemaker_notebook_instance is ForceNew). Keep them: removing one makes such a deployment do exactly that.
moved {
  from = module.notebook.aws_security_group.this
  to   = module.network.aws_security_group.workload["notebook"]
}

moved {
  from = module.notebook.aws_vpc_security_group_egress_rule.https_to_vpc_endpoints
  to   = module.network.aws_vpc_security_group_egress_rule.workload_https_to_vpc_endpoints["notebook"]
}

moved {
  from = module.notebook.aws_vpc_security_group_egress_rule.https_to_s3
  to   = module.network.aws_vpc_security_group_egress_rule.workload_https_to_s3["notebook"]
}

moved {
  from = module.ec2_trainer[0].aws_security_group.this
  to   = module.network.aws_security_group.workload["trainer"]
}

moved {
  from = module.ec2_trainer[0].aws_vpc_security_group_egress_rule.https_to_vpc_endpoints
  to   = module.network.aws_vpc_security_group_egress_rule.workload_https_to_vpc_endpoints["trainer"]
}

moved {
  from = module.ec2_trainer[0].aws_vpc_security_group_egress_rule.https_to_s3
  to   = module.network.aws_vpc_security_group_egress_rule.workload_https_to_s3["trainer"]
}
