"""The training logs of a 124M-parameter Llama-style model on SlimPajama (AdamW), packed as ``runs.npz``
(see README.md here for provenance, LICENSE for the MIT license of the logs; read them with
:func:`optanalysis.data.training_logs.load_runs`)."""
