"""Says whether FILE holds the float32 values VALUES... in a row (little
endian): prints 'found' or 'absent'. Usage: find_floats.py FILE V1 V2 ..."""
import struct
import sys

data = open(sys.argv[1], "rb").read()
values = [float(v) for v in sys.argv[2:]]
needle = struct.pack("<%df" % len(values), *values)
print("found" if needle in data else "absent")
