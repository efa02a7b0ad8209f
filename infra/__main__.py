"""`python -m infra ...`"""

from infra.cli import main

main()
