import os, sys
line = sys.stdin.readline().strip()
if line:
    sys.exit(0 if os.system(line) == 0 else 1)
