#!/bin/bash
# Grades a class on a Slurm cluster in N packages: a job array of N tasks, each running
# `grade run --shard k/N`, then a job that starts once all of them have succeeded and runs
# `grade merge`. Run it on a login node: `bash slurm.sh`.
#
# Adapt: N, the three folders (on storage every compute node mounts at the same path), the
# grading options (the same for every package, or `grade merge` refuses the parts) and the
# resources. grade runs as your user there: the compute nodes need unprivileged user
# namespaces (README.md, "Where to run it"), or each task exits 3 and grades nothing.
set -euo pipefail

N=8
CLASS=/shared/course/submissions
PARTS=/shared/course/parts
OUT=/shared/course/out
OPTIONS="--seed 20261123 --timeout 2"

mkdir -p "$PARTS/logs"

# --jobs: Python counts the node's cores, not the ones Slurm gave the task.
array=$(sbatch --parsable <<EOF
#!/bin/bash
#SBATCH --job-name=grade-packages
#SBATCH --array=1-$N
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --time=01:00:00
#SBATCH --output=$PARTS/logs/%a.log
exec grade run "$CLASS" --out "$PARTS/\$SLURM_ARRAY_TASK_ID" \\
    --shard "\$SLURM_ARRAY_TASK_ID/$N" --jobs "\$SLURM_CPUS_PER_TASK" $OPTIONS
EOF
)

# afterok on an array waits for every task; a failed package cancels the merge.
sbatch --dependency="afterok:$array" --kill-on-invalid-dep=yes <<EOF
#!/bin/bash
#SBATCH --job-name=grade-merge
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --time=00:30:00
#SBATCH --output=$PARTS/logs/merge.log
exec grade merge $(seq -f "$PARTS/%g" 1 "$N" | tr '\n' ' ') --out "$OUT" \\
    --jobs "\$SLURM_CPUS_PER_TASK"
EOF
