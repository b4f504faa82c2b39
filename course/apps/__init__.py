"""The shell: the `course` command and its subcommands, the trainee's JupyterLab workspace, the projector view
(Voila), the save hook and the benchmark runner. Each is a few lines over the layers below."""
