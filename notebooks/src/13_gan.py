# %% [markdown]
# # 13. Generative adversarial networks
#
# A generator turns noise into samples; a discriminator tries to tell them from real data;
# they train against each other. First on a ring of 8 Gaussians (does the generator cover
# every mode?), then on 8×8 digits. Short runs (800 steps each); the drawn digits are
# rough after so few steps — `neuralab demo gan` trains longer.

# %%
import matplotlib.pyplot as plt
from threadpoolctl import threadpool_limits

import neuralab.viz as viz
from neuralab.demos import gan

# The networks are small: one BLAS thread is faster than several waiting on each other
threadpool_limits(limits=1, user_api="blas")

real, samples, counts = gan.ring(steps=800)
print("samples near each of the 8 modes:", counts.tolist())
fig, ax = plt.subplots(figsize=(4.5, 4.5))
ax.scatter(*real.T, s=3, alpha=0.4, label="real")
ax.scatter(*samples.T, s=3, alpha=0.4, label="generated")
ax.set_aspect("equal")
_ = ax.legend()

# %%
images, judged = gan.digit_samples(steps=800)
print(judged)
fig = viz.plot_images(images, ncols=8, title="digits drawn by the GAN")
