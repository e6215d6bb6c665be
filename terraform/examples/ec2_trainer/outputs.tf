output "launch_template_id" {
  description = "Launch template a run starts from (dogbreed-launch ec2-run --launch-template <id>)."
  value       = module.ec2_trainer.launch_template_id
}
