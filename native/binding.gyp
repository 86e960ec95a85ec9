{
  "targets": [
    {
      "target_name": "berth_native",
      "sources": ["berth_native.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
