# Generates rand_mask_gt.npy: the one-instance ground-truth mask of mmdetection's head unit tests
# (tests/test_models/test_dense_heads/test_solo_head.py `_rand_masks`, numpy RandomState(0)) for the bbox
# [23.6667, 23.8757, 238.6326, 151.8874] on a 256 x 256 image. Run: python3 make_rand_mask.py
import numpy as np

rng = np.random.RandomState(0)
bbox = np.array([[23.6667, 23.8757, 238.6326, 151.8874]])
masks = np.zeros((1, 256, 256))
for i, b in enumerate(bbox.astype(np.int32)):
    mask = (rng.rand(1, b[3] - b[1], b[2] - b[0]) > 0.3).astype(np.int64)
    masks[i:i + 1, b[1]:b[3], b[0]:b[2]] = mask
np.save('rand_mask_gt.npy', masks.astype(bool))
print('ones:', int(masks.sum()))
