# %% [markdown]
# # 14. The applications
#
# The lecture closes with systems built on these pieces: YOLO (detection), SegNet
# (segmentation, notebook 11), Teachable Machine, AlphaStar (deep reinforcement learning),
# DALL·E / Stable Diffusion (text to image) and ChatGPT. neuralab has each idea in miniature
# (`neuralab.apps`, `docs/apps/`); here two of them run in their quick versions.

# %%
from pathlib import Path
from tempfile import mkdtemp

from IPython.display import Image, display

from neuralab import demos

out = Path(mkdtemp())
for topic in ("detection", "teachable-machine"):
    print(f"== {topic}: {demos.topics()[topic]}")
    result = demos.run(topic, out, quick=True)
    for figure in result["figures"]:
        display(Image(filename=str(figure)))

# %% [markdown]
# Every topic, and how to run the full versions from the command line:

# %%
for name, summary in demos.topics().items():
    print(f"neuralab demo {name:<20} {summary}")
