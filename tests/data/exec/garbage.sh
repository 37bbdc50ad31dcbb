#!/bin/sh
# A trial command that prints no JSON result: garbage, then a broken object.
echo "hello"
echo "[1, 2, 3]"
echo '{"val_acc": 0.5,'
exit 0
