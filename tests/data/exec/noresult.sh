#!/bin/sh
# A trial command that exits 0 and prints nothing.
exit 0
