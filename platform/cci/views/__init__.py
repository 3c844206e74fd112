"""Server-rendered pages. Region pages live under /r/<code>/, federal ones under /federal/."""
