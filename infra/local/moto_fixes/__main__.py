"""`python -m infra.local.moto_fixes -H HOST -p PORT`: moto's server with the fixes applied."""

import sys

from infra.local.moto_fixes import main

main(sys.argv[1:])
