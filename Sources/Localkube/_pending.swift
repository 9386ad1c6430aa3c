// composition root lands with the resource declarations
