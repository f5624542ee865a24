import CompareCLI

CompareCommandLine.main()
