from yiwang_standalone.main import main

main()
