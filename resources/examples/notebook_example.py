# A HeadLens project in Python, cell by cell (the "# %%" cells run one at a time in Jupyter,
# VS Code or Spyder, or all at once with python3). Needs python3-headlens and matplotlib.
# It reads example.hlproj beside it and draws the logit-lens grid of the adder's carry prompt
# and what each attention head contributes at the "=" before the answer.
# HEADLENS_EXAMPLE_PROJECT and HEADLENS_EXAMPLE_OUT name another project and the folder the
# charts are saved to (PNG; default: only shown).

# %% Open the project: one line, read-only, nothing read until asked for.
import os

import matplotlib.pyplot as plt
import numpy as np

import headlens

here = os.path.dirname(os.path.abspath(globals().get("__file__", "notebook_example.py")))
project = headlens.open(os.environ.get("HEADLENS_EXAMPLE_PROJECT",
                                       os.path.join(here, "example.hlproj")))
out = os.environ.get("HEADLENS_EXAMPLE_OUT")
print(project)
for name, trace in project.traces.items():
    print(f"  {name}: {trace.prompt!r}")

# %% One trace, its tokens, and the logit lens as a layers x tokens grid of top-1 tokens.
trace = project.traces["carry-587+469"]
print(trace)
grid = trace.grid("resid_post")
print(grid)

# %% Draw the grid: each cell is the lens's top-1 token, coloured by its probability.
fig, ax = plt.subplots(figsize=(1 + 0.7 * trace.n_tokens, 1 + 0.6 * trace.n_layers))
image = ax.imshow(grid.probs, cmap="Blues", vmin=0, vmax=1, aspect="auto", origin="lower")
for (layer, pos), text in np.ndenumerate(grid.text):
    ax.text(pos, layer, text, ha="center", va="center", fontsize=8,
            color="white" if grid.probs[layer, pos] > 0.6 else "black")
ax.set_xticks(range(trace.n_tokens), grid.tokens)
ax.set_yticks(range(trace.n_layers), [f"L{l}" for l in range(trace.n_layers)])
ax.set_xlabel("input token")
ax.set_ylabel("layer (resid_post)")
ax.set_title(f"logit lens of {trace.prompt!r}")
fig.colorbar(image, ax=ax, label="top-1 probability")
fig.tight_layout()
if out:
    fig.savefig(os.path.join(out, "logit_lens_grid.png"), dpi=100)

# %% Head contributions at the "=" before the answer: the norm of what each head adds to the
# residual stream (heads/contrib_norm, axes layer x head x pos), and its share of the layer's.
pos = trace.token_text.index("=")
norms = trace.heads("contrib_norm").sel(pos=pos)  # [layer, head], reads one position
share = norms / norms.sum(axis=1, keepdims=True)
fig, ax = plt.subplots(figsize=(7, 3.5))
width = 0.8 / trace.n_heads
for head in range(trace.n_heads):
    ax.bar(np.arange(trace.n_layers) + (head - (trace.n_heads - 1) / 2) * width,
           norms[:, head], width, label=f"head {head}")
for layer in range(trace.n_layers):
    top = int(share[layer].argmax())
    ax.annotate(f"{share[layer, top]:.0%}", (layer + (top - (trace.n_heads - 1) / 2) * width,
                                             norms[layer, top]), ha="center", va="bottom",
                fontsize=7)
ax.set_xticks(range(trace.n_layers), [f"L{l}" for l in range(trace.n_layers)])
ax.set_ylabel("contribution norm")
ax.set_title(f"what each head adds at position {pos} ({trace.token_text[pos]!r})")
ax.legend(fontsize=7, ncol=trace.n_heads)
fig.tight_layout()
if out:
    fig.savefig(os.path.join(out, "head_contributions.png"), dpi=100)

# %% With pandas installed, every table is a DataFrame (the columns of headlens-cli export).
try:
    print(trace.to_frame("lens").query("rank == 1 and layer == @trace.n_layers - 1").head())
except ImportError as e:
    print(e)
if not out:
    plt.show()
project.close()
