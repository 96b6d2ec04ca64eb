from centrasync.cli import main

main()
