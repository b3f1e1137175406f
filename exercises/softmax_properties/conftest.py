pytest_plugins = ["grader.judge.local"]
