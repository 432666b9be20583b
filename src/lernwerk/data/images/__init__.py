"""Images: the format every image is brought to (`formats`), folders and zips of class
folders in and out (`folders`), and augmentation of training batches (`augment`)."""
