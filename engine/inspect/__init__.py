"""Look inside a network: what each block computes, and why it learns or does not.

Pure functions over a built `NetLoomModel` (engine.model.build) and sample(s); they return
numpy arrays and dataclasses, never widgets, so the GUI's views and the `inspect`
command draw the same facts. Nothing here runs unless called: no hooks stay on a model.

  activations  capture(model, analysis, sample) → [BlockActivation(node, kind, array)]
               view_kind(shape), first_conv_filters(model), copy_for_inspection(model)
  recurrent    unroll(rnn_module, x) → explicit cell loop: states and gates per step
  lens         time_lens(model, loss_fn, sample, target, node) → TimeLens, recurrent_blocks
  gradients    gradient_through_time(...) → (N, T), through_time_ratio; gradient_flow /
               FlowProbe (every K batches, from a trainer's on_batch_end);
               weight_ and activation_histograms
  histograms   Histogram, histogram(values, bins) (numpy only: the window holds them)
  saliency     gradient_x_input, grad_cam (images and frames)
  sizes        free_dims(graph) (no torch), shape_at, predict_mask at any size
  render       numpy + Pillow images of all of the above (the command's PNGs)

Inspect never changes training: the GUI inspects a copy of the weights
(`copy_for_inspection`, taken on the training thread between batches).
"""
