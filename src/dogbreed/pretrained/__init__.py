"""Pretrained torchvision weights without a network: staged once into the bucket, verified wherever they load.

`files`: the file name torchvision gives a weights release (`<name>-<sha256 prefix>.pth`), the check of a file
against the hash its name carries (torch.hub's own rule), and where training finds the file. `stage`: the
`dogbreed-stage-weights` tool that downloads them on a machine with internet and uploads them to S3.
"""
