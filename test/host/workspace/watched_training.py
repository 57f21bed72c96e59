"""A training script watched by GradLens (test/host/suite/watch.test.ts runs it in the integrated terminal)."""
import time

import torch

import gradlens

torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(12, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
watch = gradlens.watch(optimizer, model=model, name="host-watch", detail="0.weight")
x, y = torch.randn(64, 12), torch.randint(0, 3, (64,))
for step in range(120):
    loss = torch.nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    watch.log(loss=loss.item())
    time.sleep(0.01)
watch.close()
