B=$(mktemp -u sweep-XXXX)
cat > /tmp/prof/$B.yaml <<EOT
version: 1
batch: $B
step: {function: noop, version: "1.0.0"}
grid: {index: {range: [0, ${N:-1000}]}}
name: "$B-{{ index }}"
execution: {submit: 8, max_running: ${N:-1000}}
EOT
echo /tmp/prof/$B.yaml
