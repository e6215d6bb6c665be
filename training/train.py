"""The training script SageMaker, torchrun and the EC2 trainer run: `dogbreed.training.train`.

python training/train.py --help
torchrun --nproc_per_node=4 training/train.py --data-dir data/dogImages
"""

import sys

from dogbreed.training.train import main

if __name__ == "__main__":
    sys.exit(main())
