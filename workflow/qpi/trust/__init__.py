"""How far to trust a predicted phase map when no ground truth is at hand.

Three signs, each computed the same way for every family (`qpi predict` and the pipeline's evaluations):
`uncertainty` (the spread of a model's seeds and of the dihedral transforms of its input), `consistency`
(the prediction re-imaged through the forward model its family knows, against the measured input) and
`ood` (how far an input lies from the training inputs the model card summarises).
"""
